"""The standards the issuer implements, one module each: Open Badges 3.0 and 2.0,
CLR 2.0, VC Data Integrity (eddsa-rdfc-2022), JSON-LD loading, Bitstring Status List,
Multikey, VC-JWT, badge baking and the PDF certificate. No I/O beyond packaged files."""
