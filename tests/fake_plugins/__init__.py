"""Plugins that misbehave on purpose, loaded by name through ADVISOR_PLUGIN_MODULES."""
