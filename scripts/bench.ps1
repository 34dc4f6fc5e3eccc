# Twin of bench.sh: both pools (and the executor with --inline-completions false) against the reference servers in
# ../shared/peers when present, one server at a time, every workload driven by echo-load with the server's CPU
# and peak RSS sampled; prints the table and the target ratios, writes results/bench-<timestamp>/.
#   scripts/bench.ps1 [-Quick] [-Aot] [-Out DIR] [-Servers "c-epoll kestrel go py-executor py-queue workers workers-aot executor executor-aot executor-threadpool"]
# workers-aot and executor-aot: the Native AOT build (scripts/publish.ps1, once per run, into DIR/publish), in a
# full run always, with -Quick only with -Aot. The C epoll reference client runs from bench.sh only.
param([switch] $Quick, [switch] $Aot, [string] $Out = '', [string] $Servers = '')
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'lib/Common.ps1')
Confirm-ScriptArguments $PSCommandPath (@($args) + @($Out, $Servers | Where-Object { $_ -like '-*' }))

$peersDir = Join-Path $RepoRoot '../shared/peers'
if ($Quick) { $duration = 2; $warmup = 0.5; $idle = 2000; $defaultPeers = 'c-epoll kestrel' }
else { $duration = 5; $warmup = 1; $idle = 10000; $defaultPeers = 'c-epoll kestrel go py-executor py-queue' }
if (-not $Servers) {
  $Servers = if (-not $Quick -or $Aot) { 'workers workers-aot executor executor-aot executor-threadpool' } else { 'workers executor executor-threadpool' }
  if (Test-Path (Join-Path $peersDir 'run-peer.sh')) { $Servers = "$defaultPeers $Servers" }
  else { [Console]::Error.WriteLine("bench.ps1: no reference servers at $peersDir; comparing the pools only") }
}
if (-not (Get-Command go -ErrorAction SilentlyContinue)) { $Servers = ($Servers -split ' ' | Where-Object { $_ -ne 'go' }) -join ' ' }
if (-not $Out) { $Out = Join-Path $RepoRoot ('results/bench-' + (Get-Date).ToUniversalTime().ToString('yyyyMMddTHHmmssZ')) }
New-Item -ItemType Directory -Force -Path $Out | Out-Null
Build-Release
if ($Servers -match '-aot') {
  & (Join-Path $PSScriptRoot 'publish.ps1') -Out (Join-Path $Out 'publish') | Tee-Object (Join-Path $Out 'publish.txt')
  if ($LASTEXITCODE -ne 0) { exit 1 }
}

function Get-FreePort {
  while ($true) {
    $port = Get-Random -Minimum 10000 -Maximum 30000 # below the ephemeral range, where clients' own ports live
    $probe = [Net.Sockets.TcpClient]::new()
    try { $probe.Connect('127.0.0.1', $port) } catch { return $port } finally { $probe.Dispose() }
  }
}

function Start-Subject([string] $Name, [string] $Workload) {
  $log = Join-Path $Out "server-$Name-$Workload.log"
  if ($Name -in 'workers', 'executor', 'executor-threadpool', 'workers-aot', 'executor-aot') {
    $opts = @('--pool', ($Name -replace '-(inline|aot)$', ''))
    if ($Name -eq 'executor-threadpool') { $opts += '--inline-completions', 'false' }
    if ($Workload -eq '1000c-1KiB') { $opts += @('--workers', '1000', '--max-connections', '1100') }
    if ($Workload -eq '10k-idle') { $opts += @('--workers', "$idle", '--max-connections', "$($idle + 100)", '--queue', "$idle", '--when-full', 'wait', '--backlog', '4096') }
    $exe = if ($Name -like '*-aot') { Join-Path $Out ('publish/echo-server' + $(if ($env:OS -eq 'Windows_NT') { '.exe' } else { '' })) } else { '' }
    return Start-EchoServer $log $opts $exe
  }
  $port = Get-FreePort
  $process = Start-Process bash -ArgumentList @((Join-Path $peersDir 'run-peer.sh'), $Name, "$port") -RedirectStandardOutput $log -RedirectStandardError "$log.stderr" -PassThru -NoNewWindow
  for ($i = 0; $i -lt 1200; $i++) {
    $probe = [Net.Sockets.TcpClient]::new()
    try { $probe.Connect('127.0.0.1', $port); return @{ Process = $process; Port = $port; Log = $log } } catch { } finally { $probe.Dispose() }
    if ($process.HasExited) { break }
    Start-Sleep -Milliseconds 100
  }
  [Console]::Error.WriteLine("bench.ps1: reference server $Name did not start; see $log")
  exit 1
}

$workloads = [ordered]@{
  '1c-64B' = @('-c', '1', '-s', '64'); '100c-64B' = @('-c', '100', '-s', '64'); '100c-16KiB' = @('-c', '100', '-s', '16KiB')
  '1000c-1KiB' = @('-c', '1000', '-s', '1KiB'); 'connect-50c' = @('--mode', 'connect', '-c', '50', '-s', '64'); '10k-idle' = @('--mode', 'hold', '-c', "$idle", '-s', '64')
}
foreach ($name in ($Servers -split ' ' | Where-Object { $_ })) {
  foreach ($workload in $workloads.Keys) {
    if ($workload -eq '10k-idle' -and $name -like 'py-*') { continue } # 128 Python threads cannot hold thousands of idle clients
    $server = Start-Subject $name $workload
    try {
      $warm = if ($workload -eq '10k-idle') { @() } else { @('--warmup', "$warmup") }
      $text = & dotnet $LoadDll --port $server.Port @($workloads[$workload]) -d $duration @warm --progress 0 --server-pid $server.Process.Id `
        --label "server=$name" --label "workload=$workload" --json (Join-Path $Out "$name-$workload.json")
      $text | Where-Object { $_ -match '^echo-load|msg/s\)|connections  |held|server |latency|errors' } | ForEach-Object { [Console]::Error.WriteLine($_) }
    } finally {
      Stop-EchoServer $server
    }
  }
}

"machine: $([Environment]::ProcessorCount) cores, $([Environment]::OSVersion); dotnet $(& dotnet --version)" | Tee-Object (Join-Path $Out 'machine.txt')
& dotnet $LoadDll compare $Out --title "echo servers ($((Get-Date).ToUniversalTime().ToString('yyyy-MM-dd')), $([Environment]::ProcessorCount) cores)"
Write-Output "results: $Out (bench.md, throughput.png/.svg, latency.png/.svg, one JSON per run, server logs)"
