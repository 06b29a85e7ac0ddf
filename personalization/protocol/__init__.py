"""Host-side protocols: SCP03, KDF, BAC, PACE, secure messaging, CA, AA (ICAO 9303-11, GPC Amd D)."""
