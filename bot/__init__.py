"""Assistance line for field staff: a Matrix (Tchap) bot with a FAQ, guided flows and tickets."""
