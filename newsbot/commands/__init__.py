"""newsbot's scrapy commands (``COMMANDS_MODULE``)."""
