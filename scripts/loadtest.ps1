# Twin of loadtest.sh: load-tests both pools across a few sizes and connection counts, one server start per
# pool configuration, and writes results/<timestamp>/: one JSON report per run, summary.md, throughput.png/.svg
# and latency.png/.svg; with a headless Chromium on PATH, also live-view.png, the admin endpoint's live view
# under load (about 30 s more).
#   scripts/loadtest.ps1 [-Quick] [-Duration SECONDS] [-Out DIR]
# Every run must exit 0, except 1,000 clients on 128 workers: the worker pool serves 128 and queues the rest for
# the whole run by design, so echo-load's exit code 4 (connections that never got a reply) is expected there,
# and only there. Any other failure makes the script exit 1 (3 if a byte came back wrong).
param([switch] $Quick, [double] $Duration = 0, [string] $Out = '')
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'lib/Common.ps1')
Confirm-ScriptArguments $PSCommandPath (@($args) + @($Out | Where-Object { $_ -like '-*' }))

if ($Quick) {
  $configs = @(@('workers', 128), @('executor', 128)); $sizes = @('64', '16KiB'); $conns = @(1, 100, 1000); $udpSizes = @('64'); $udpConns = @(1, 100)
  if ($Duration -eq 0) { $Duration = 2 }; $warmup = 0.5
} else {
  $configs = @(@('workers', 128), @('workers', 1000), @('executor', 128), @('executor', 1000)); $sizes = @('64', '1KiB', '16KiB'); $conns = @(1, 100, 1000); $udpSizes = @('64', '1KiB'); $udpConns = @(1, 100)
  if ($Duration -eq 0) { $Duration = 4 }; $warmup = 1
}
if (-not $Out) { $Out = Join-Path $RepoRoot ('results/' + (Get-Date).ToUniversalTime().ToString('yyyyMMddTHHmmssZ')) }
New-Item -ItemType Directory -Force -Path $Out | Out-Null
Build-Release

$failed = @(); $mismatch = $false
foreach ($config in $configs) {
  $pool, $workers = $config
  $server = Start-EchoServer (Join-Path $Out "server-$pool-$workers.log") @('--pool', $pool, '--workers', "$workers", '--max-connections', '1100', '--log-level', 'Warning', '--udp', '--udp-rate-per-ip', '0')
  try {
    [Console]::Error.WriteLine("== pool=$pool workers=$workers on port $($server.Port)")
    foreach ($size in $sizes) {
      foreach ($c in $conns) {
        $name = "$pool-w$workers-s$size-c$c"
        $report = & dotnet $LoadDll --port $server.Port -c $c -s $size -d $Duration --warmup $warmup --progress 0 `
          --server-pid $server.Process.Id --label "pool=$pool" --label "workers=$workers" --json (Join-Path $Out "$name.json")
        $rc = $LASTEXITCODE
        # More clients than workers: the rest wait in the queue all run long, on purpose (exit code 4).
        $expected = if ($pool -eq 'workers' -and $c -gt $workers) { 4 } else { 0 }
        if ($rc -ne 0 -and $rc -ne $expected) { $failed += "$name (exit $rc)" }
        if ($rc -eq 3) { $mismatch = $true }
        $report | Where-Object { $_ -match '^echo-load|messages|answered|unanswered|latency|errors' } | ForEach-Object { [Console]::Error.WriteLine($_) }
      }
    }
    # UDP on the same port, through the same pool: ping-pong datagrams, every one answered (exit 0).
    foreach ($size in $udpSizes) {
      foreach ($c in $udpConns) {
        $name = "$pool-w$workers-udp-s$size-c$c"
        $report = & dotnet $LoadDll --udp --port $server.Port -c $c -s $size -d $Duration --warmup $warmup --progress 0 `
          --server-pid $server.Process.Id --label "pool=$pool" --label "workers=$workers" --label "transport=udp" --json (Join-Path $Out "$name.json")
        $rc = $LASTEXITCODE
        if ($rc -ne 0) { $failed += "$name (exit $rc)" }
        if ($rc -eq 3) { $mismatch = $true }
        $report | Where-Object { $_ -match '^echo-load|messages|datagrams|latency|errors' } | ForEach-Object { [Console]::Error.WriteLine($_) }
      }
    }
  } finally {
    Stop-EchoServer $server
  }
}

# The live view under load: 110 clients streaming 16 KiB and 40 connecting, echoing once and closing, against
# 128 workers, so that the grid, the queue and the charts all move; a screenshot after 10 s (the load runs
# 30 s: Chromium is slow to start on a busy machine).
$browser = Find-Chromium
if ($browser) {
  $server = Start-EchoServer (Join-Path $Out 'server-live-view.log') @('--pool', 'workers', '--workers', '128', '--max-connections', '1100', '--admin-port', '0', '--log-level', 'Warning')
  try {
    $admin = Get-AdminPort $server
    [Console]::Error.WriteLine('== live view: pool=workers workers=128, 110 streaming + 40 connecting clients')
    $loads = @(
      (Start-Process dotnet -ArgumentList @($LoadDll, '--port', "$($server.Port)", '-c', '110', '-s', '16KiB', '-d', '30', '--progress', '0') -PassThru -NoNewWindow -RedirectStandardOutput (Join-Path $Out 'live-view-streaming.txt')),
      (Start-Process dotnet -ArgumentList @($LoadDll, '--port', "$($server.Port)", '--mode', 'connect', '-c', '40', '-d', '30', '--progress', '0') -PassThru -NoNewWindow -RedirectStandardOutput (Join-Path $Out 'live-view-connecting.txt')))
    Start-Sleep -Seconds 10
    Save-LiveViewScreenshot $browser $admin (Join-Path $Out 'live-view.png')
    $loads | ForEach-Object { $_.WaitForExit() }
  } finally {
    Stop-EchoServer $server
  }
} else {
  [Console]::Error.WriteLine('no live-view.png: no headless Chromium on PATH (apt-get install chromium-headless-shell)')
}

& dotnet $LoadDll summarize $Out --title "EchoServer load test ($((Get-Date).ToUniversalTime().ToString('yyyy-MM-dd')), $([Environment]::ProcessorCount) cores)" | Out-Null
Get-Content (Join-Path $Out 'summary.md')
Write-Output "results: $Out (summary.md, throughput.png/.svg, latency.png/.svg, live-view.png when Chromium is present, one JSON per run, server logs)"
if ($mismatch) { [Console]::Error.WriteLine('loadtest.ps1: some bytes came back wrong (see the reports)'); exit 3 }
if ($failed.Count -gt 0) { [Console]::Error.WriteLine("loadtest.ps1: runs that failed: $($failed -join ' ')"); exit 1 }
