# A key anyone can use and whose policy anyone can change, never rotated.
resource "aws_kms_key" "shared" {
  description = "shared data key"

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "Everyone"
      Effect    = "Allow"
      Principal = { AWS = "*" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}
