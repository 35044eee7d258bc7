from advisor import Family, hookimpl


class NoName(Family):
    name = "Not A Slug"
    title = ""
    tasks = frozenset({"teleport"})

    def make_estimator(self, task, profile, **params):
        return None


@hookimpl
def register_families(register):
    register(NoName())
