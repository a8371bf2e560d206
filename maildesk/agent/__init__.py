"""The agent command language: the line parser, one spec per command in a registry, and
`run.run_agent_message`, which mail and `maildesk ticket do` both call.
"""
