"""Apprenticeship standards: published standard versions, their KSBs and duties."""
