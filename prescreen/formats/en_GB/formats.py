# English pages keep the ISO dates they have always shown (2026-03-04): unambiguous to British and American
# readers alike, the form the date inputs take, and what the printed summaries already on file say. Django's
# en_GB short formats (04/03/2026) read as 3 April to half the people who see them.
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
