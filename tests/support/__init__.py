"""Real peers for the tests and benchmarks: a loopback Twilio Messages API, an SMTP server, service processes."""
