# Twin of idle-memory.sh: opens N idle connections (default 10,000) in each pool mode (--workers N) and
# reports the server's resident memory: empty, with every connection held, and the growth per connection.
#   scripts/idle-memory.ps1 [-Connections N] [-Hold SECONDS]
param([int] $Connections = 10000, [double] $Hold = 5)
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'lib/Common.ps1')
Confirm-ScriptArguments $PSCommandPath (@($args))

Build-Release
$out = Join-Path ([IO.Path]::GetTempPath()) ("idle-memory-" + [Guid]::NewGuid())
New-Item -ItemType Directory -Force -Path $out | Out-Null
$rows = @('| pool | connections held | empty server RSS | RSS with all held (peak) | growth per idle connection |', '|---|--:|--:|--:|--:|')
foreach ($pool in 'workers', 'executor') {
  $server = Start-EchoServer (Join-Path $out "server-$pool.log") @('--pool', $pool, '--workers', "$Connections", '--max-connections', "$($Connections + 100)",
    '--queue', "$Connections", '--when-full', 'wait', '--backlog', '4096', '--log-level', 'Warning')
  try {
    Start-Sleep -Seconds 2 # let start-up settle before the baseline
    $server.Process.Refresh(); $baseBytes = $server.Process.WorkingSet64
    $json = Join-Path $out "$pool.json"
    $text = & dotnet $LoadDll --port $server.Port --mode hold -c $Connections -d $Hold --progress 0 --server-pid $server.Process.Id --json $json
    $text | Where-Object { $_ -match '^echo-load|held|server|errors' } | ForEach-Object { [Console]::Error.WriteLine($_) }
    $report = Get-Content $json -Raw | ConvertFrom-Json
  } finally {
    Stop-EchoServer $server
  }
  $held = [long]$report.connectionsHeld
  $peakBytes = [double]$report.serverPeakRssMiB * 1MB
  $per = if ($held -gt 0) { ($peakBytes - $baseBytes) / $held } else { 0 }
  $rows += ('| {0} | {1} | {2:F1} MiB | {3:F1} MiB | {4:F0} B ({5:F2} KiB) |' -f $pool, $held, ($baseBytes / 1MB), $report.serverPeakRssMiB, $per, ($per / 1KB))
}
Remove-Item -Recurse -Force $out
$rows
