"""Operations commands (each with --help and a clear exit status)."""
