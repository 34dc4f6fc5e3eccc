# Twin of idle-memory.sh: opens N idle connections (default 10,000) in each pool mode (--workers N) and
# reports the server's resident memory: empty, with every connection held, and the growth per connection; then
# the executor again over TLS (--tls-self-signed, echo-load --tls --insecure), for what an idle TLS session costs.
# Writes results/idle-memory-<timestamp>/ (or -Out DIR): one JSON report per pool, summary.md, and
# memory.png/.svg, the chart of each pool's peak memory. Every connection must be held: any other exit code of
# echo-load than 0 makes the script exit 1.
#   scripts/idle-memory.ps1 [-Connections N] [-Hold SECONDS] [-Out DIR]
param([int] $Connections = 10000, [double] $Hold = 5, [string] $Out = '')
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'lib/Common.ps1')
Confirm-ScriptArguments $PSCommandPath (@($args) + @($Out | Where-Object { $_ -like '-*' }))

if (-not $Out) { $Out = Join-Path $RepoRoot ('results/idle-memory-' + (Get-Date).ToUniversalTime().ToString('yyyyMMddTHHmmssZ')) }
New-Item -ItemType Directory -Force -Path $Out | Out-Null
Build-Release
$out = $Out
$failed = @()
$rows = @('| pool | connections held | empty server RSS | RSS with all held (peak) | growth per idle connection |', '|---|--:|--:|--:|--:|')
foreach ($run in 'workers', 'executor', 'executor-tls') {
  $pool = $run -replace '-tls$', ''
  $serverTls = if ($run -ne $pool) { @('--tls-self-signed') } else { @() }
  $loadTls = if ($run -ne $pool) { @('--tls', '--insecure') } else { @() }
  $server = Start-EchoServer (Join-Path $out "server-$run.log") (@('--pool', $pool, '--workers', "$Connections", '--max-connections', "$($Connections + 100)",
    '--queue', "$Connections", '--when-full', 'wait', '--backlog', '4096', '--log-level', 'Warning') + $serverTls)
  try {
    Start-Sleep -Seconds 2 # let start-up settle before the baseline
    $server.Process.Refresh(); $baseBytes = $server.Process.WorkingSet64
    $json = Join-Path $out "$run.json"
    $text = & dotnet $LoadDll --port $server.Port --mode hold -c $Connections -d $Hold --progress 0 @loadTls --server-pid $server.Process.Id --label "pool=$run" --json $json
    if ($LASTEXITCODE -ne 0) { $failed += "$run (exit $LASTEXITCODE)" }
    $text | Where-Object { $_ -match '^echo-load|held|server|unanswered|errors' } | ForEach-Object { [Console]::Error.WriteLine($_) }
    $report = Get-Content $json -Raw | ConvertFrom-Json
  } finally {
    Stop-EchoServer $server
  }
  $held = [long]$report.connectionsHeld
  $peakBytes = [double]$report.serverPeakRssMiB * 1MB
  $per = if ($held -gt 0) { ($peakBytes - $baseBytes) / $held } else { 0 }
  $rows += ('| {0} | {1} | {2:F1} MiB | {3:F1} MiB | {4:F0} B ({5:F2} KiB) |' -f $run, $held, ($baseBytes / 1MB), $report.serverPeakRssMiB, $per, ($per / 1KB))
}
& dotnet $LoadDll summarize $out --title "idle connections ($((Get-Date).ToUniversalTime().ToString('yyyy-MM-dd')), $([Environment]::ProcessorCount) cores)" | Out-Null
$rows | Set-Content (Join-Path $out 'table.md')
$rows
''
"results: $out (table.md, memory.png/.svg, summary.md, one JSON per pool, server logs)"
if ($failed.Count -gt 0) { [Console]::Error.WriteLine("idle-memory.ps1: runs that failed: $($failed -join ' ')"); exit 1 }
