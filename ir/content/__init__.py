"""Content files a practitioner edits: YAML parsing with positions (``yamlfile``), validation
(``validate``), search paths (``paths``) and a per-process cache of parsed files (``cache``)."""
