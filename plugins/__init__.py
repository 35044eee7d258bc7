"""Built-in `advisor` plugins, one subpackage each, registered through the `advisor` entry points."""
