"""Escalation: what an alert says, to whom, and how acknowledgements end the wait."""
