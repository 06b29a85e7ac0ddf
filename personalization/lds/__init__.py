"""The logical data structure and the card profile: pure data, bytes in and bytes out (ICAO 9303-10)."""
