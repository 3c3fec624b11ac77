"""Use cases: orchestrate the domain, the classifier, the store and the channels; no Textual."""
