"""The insurer desk: patients' insurer channels, tickets, the agents' queue and the SLA."""
