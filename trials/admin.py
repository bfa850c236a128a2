"""trials registers no ModelAdmin: the admin where trials are curated is the curation app's (curation/admin/),
and the import pages are ctgov's (ctgov/admin.py). Both build on trials; trials knows neither."""
