"""One thin module per Lambda: parse the event, call the domain, translate errors."""
