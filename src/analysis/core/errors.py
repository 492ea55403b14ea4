"""Errors that describe bad input in words a researcher can act on."""


class InputError(Exception):
    """Bad input that stops a run before anything is written.

    Carries one or more problems; each names the file, the line or field, and
    the fix. ``str(err)`` lists them all, so one run reports every problem.
    """

    def __init__(self, problems):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))

    def __str__(self):
        if len(self.problems) == 1:
            return self.problems[0]
        lines = [f"{len(self.problems)} problems:"]
        lines += [f"- {p}" for p in self.problems]
        return "\n".join(lines)
