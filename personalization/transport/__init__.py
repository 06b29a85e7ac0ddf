"""Card transports: the interface, PC/SC through pcscd, and in-process (DESIGN §2)."""
