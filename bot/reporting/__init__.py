"""What the decision log tells FAQ authors and the head of the service: gaps, report, charts."""
