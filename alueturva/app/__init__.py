"""The faces of the service: the HTTP application, the command line, the web pages and the wiring that connects
the domains (routers, periodic tasks, cross-domain reactions). Nothing outside this package imports it."""
