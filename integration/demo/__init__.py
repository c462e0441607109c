"""Development aids that act on the sandbox as a merchant would (never in production): the guided
demo store of the start page (:mod:`integration.demo.guided_store`)."""
