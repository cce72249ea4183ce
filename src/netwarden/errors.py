"""Errors a user can cause. The CLI prints them as one sentence, never a traceback."""


class UserError(Exception):
    """A problem with the user's input, configuration or environment.

    The message must name the input and say what to do about it.
    """

    exit_code = 2
