"""Printable documents as PDF (fpdf2, a system CJK font embedded as a subset): the eligibility report, the
acceptance and evaluation records, the change-report receipt; each with the bureau's heading, page numbers, the
zone map drawn as vectors and the signature/seal blocks."""
