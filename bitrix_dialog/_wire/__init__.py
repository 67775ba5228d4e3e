"""What travels: HTTP request/response types, form encoding, portal URLs, the REST envelope
and the redaction of secrets in anything that could be logged."""
