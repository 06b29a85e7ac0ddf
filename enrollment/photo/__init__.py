"""Applicant photos: landmarks, head geometry, expression and face matching (ICAO 9303-3, DESIGN §5)."""
