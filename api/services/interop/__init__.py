"""Interoperability with 1EdTech CASE: our published content served as frameworks (case), and CFPackages imported
as draft units (case_import)."""
