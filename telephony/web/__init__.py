"""The web side: the operator socket (consumer, protocol, dispatch to the worker), the pages
and their queries. It never imports the worker; commands and events cross the channel layer.
"""
