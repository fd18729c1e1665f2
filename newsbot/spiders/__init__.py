"""newsbot's spiders: one per site, each a name bound to its site rules."""
