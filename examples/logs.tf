# A log group encrypted with a key whose policy never lets CloudWatch Logs use it:
# creating the log group fails with AccessDeniedException.
resource "aws_kms_key" "logs" {
  description         = "application logs"
  enable_key_rotation = true

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "KeyAdmins"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::111122223333:role/KeyAdmin" }
      Action    = ["kms:Describe*", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"]
      Resource  = "*"
    }]
  })
}

resource "aws_cloudwatch_log_group" "orders" {
  name       = "/app/orders"
  kms_key_id = aws_kms_key.logs.arn
}
