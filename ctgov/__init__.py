"""Importing ClinicalTrials.gov records as trials.

Pure modules (no Django): `archives` reads files, `legacy` converts legacy XML, `studies` turns a study into a
trial record, `split` splits eligibility text, `drafts` drafts rules and scores them. The Django half: `models`
(ImportJob), `importer`, the `import_ctgov` command and the admin's import pages (`admin`).
"""
