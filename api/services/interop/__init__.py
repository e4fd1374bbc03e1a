"""Interoperability with 1EdTech CASE: our published content served as frameworks (case), apprenticeship standard
versions served as frameworks (case_standards), and CFPackages imported as draft units (case_import)."""
