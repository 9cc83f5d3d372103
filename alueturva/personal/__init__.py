"""Personal-data care (docs/personal-data.md): what each domain holds about a person (``holders``), how long it is
kept (``retention``), and the stable pseudonym that replaces a person's name, number, address and free texts
(``pseudonym``). The domains register their holders in their own ``personal_data.py``; the application wires them."""
