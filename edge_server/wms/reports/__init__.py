"""Reports for supervisors and the business: the operations report and its payback estimate
(docs/reports.md)."""
