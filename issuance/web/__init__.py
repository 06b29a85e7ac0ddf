"""The web app: its factory wires the stages; `deps` holds what every router shares."""
