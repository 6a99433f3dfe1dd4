"""How people are named on pages and in messages: by their name and office, never their login."""


def display_name(user) -> str:
    """ "张三(专利管理处)": the person's full name with their offices; the office alone for
    an office's shared account named after it; the login only when nothing else is known.
    Reads user.departments.all() (prefetch it on lists)."""
    if user is None:
        return ""
    first, last = user.first_name.strip(), user.last_name.strip()
    if first and last and any(ord(ch) > 0x2E80 for ch in first + last):
        name = f"{last}{first}"  # 张三: a Chinese name has the family name first, no space
    else:
        name = user.get_full_name().strip() or user.username
    offices = [d.name for d in user.departments.all() if d.name != name]
    return f"{name}({'、'.join(offices)})" if offices else name
