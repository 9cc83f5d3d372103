"""The service's real processes and its loopback peers, shared by the tests and the benchmarks: a private
redis-server, `alueturva worker|serve|scheduler` subprocesses (``processes``), a server that speaks the Twilio API
(``twilio_server``), an SMTP server (``smtp_server``) and free loopback ports (``ports``). Not part of the product: it
is not installed, and it imports nothing from ``tests``."""
