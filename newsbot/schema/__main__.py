"""Rewrite the shipped JSON Schema from the item definition: ``python -m newsbot.schema``."""

from newsbot.schema import SCHEMA_PATH, write_schema

write_schema()
print(f"wrote {SCHEMA_PATH}")
