"""The admin where trials are curated: criteria as rules, example patients, versions, questions, FHIR mappings.

One module per page family; importing them registers their ModelAdmins. Shared helpers live in `page` (one
catalogue per page, JSON fields) and `builder` (the rule builder's widget and field); `views` (pages beyond
add/change/list) imports those, and the ModelAdmins import `views`, never the other way round.
"""

from . import criteria, fhir, questions, trials  # noqa: F401
