"""Real peers for tests and benchmarks: a loopback Twilio Messages API, an SMTP server, service processes."""
