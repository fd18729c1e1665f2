"""Rewrite the shipped schemas from the item definition: ``python -m newsbot.schema``."""

from newsbot.schema import SCHEMA_PATH, write_schema
from newsbot.schema.arrow import ARROW_SCHEMA_PATH, write_arrow_schema

write_schema()
print(f"wrote {SCHEMA_PATH}")
write_arrow_schema()
print(f"wrote {ARROW_SCHEMA_PATH}")
