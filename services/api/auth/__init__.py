"""Who is calling and what they may do: accounts, sign-in, tokens, and the access rules."""
