"""The chip: APDUs, card profile, secure channel, transports, virtual card."""
