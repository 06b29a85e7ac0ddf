"""Domain core of the civil-ID card issuance system."""
