"""Host-side protocols of the inspection system and the station (ICAO 9303-11, GPC Amd D)."""
