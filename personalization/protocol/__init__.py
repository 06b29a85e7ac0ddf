"""Host-side protocols: SCP03, KDF, BAC and secure messaging (GPC Amd D, ICAO 9303-11)."""
