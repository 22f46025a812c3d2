"""Templates in a tenant: checking a bundle (`checks`), installing it as an app
(`install`), exporting an app as a bundle (`export`), and upgrading an installed app to a
newer version of its template by three-way merge (`upgrade`). The bundles themselves, their
meta-schema and the merge are in the `templates_gallery` package."""
