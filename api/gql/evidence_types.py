"""What evidence of either kind (for unit criteria, or for KSBs) shows of where it is kept."""

import strawberry


@strawberry.type(description="Where the evidence is kept, and the SHA-256 of its content, as the submitter gave them.")
class EvidenceReference:
    uri: str | None
    sha256: str | None
