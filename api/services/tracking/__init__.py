"""Tracking: learners, enrolments, evidence and claims, assessor decisions, IQA, progress derived from them, and
migrating enrolments to a newer unit version."""
