// Package eksnlb is the EksNlb component: on an existing EKS cluster it grants the AWS Load
// Balancer Controller its IAM permissions (Pulumi AWS), installs the controller's CRDs and then
// the controller (Helm, NLB gateway feature gate on), and creates the NLB GatewayClass, the
// Gateway with its LoadBalancerConfiguration (ACM certificates), and for every target a route
// and a TargetGroupConfiguration whose protocol makes the NLB speak TLS to the pods.
//
// The NLB encrypts the hop to the pods but never validates their certificates; every target's
// status says so. It is a building block of UpstreamTls (eks.enabled), which plans it.
package eksnlb

import (
	"fmt"

	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/plan/eks"
	"github.com/upstream-tls/upstream-tls/internal/register"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// Token is the component's type.
const Token = "upstream-tls:index:EksNlb"

// Args are the component inputs.
type Args struct {
	// EKS is the planned EKS path (plan.Build(...).EKS).
	EKS *eks.Plan
	// Deps holds every registered resource by plan key (the Gateway API CRDs and the
	// namespaces among them); this component's install steps and objects are added to it.
	Deps *register.Deps
}

// EksNlb is the provisioned EKS path.
type EksNlb struct {
	pulumi.ResourceState

	// RoleArn is the controller's IAM role.
	RoleArn pulumi.StringOutput `pulumi:"roleArn"`
	// PolicyArn is the IAM policy attached to the role.
	PolicyArn pulumi.StringOutput `pulumi:"policyArn"`
	// GatewayAddress is the NLB's DNS name from the Gateway's status; empty until LBC has
	// provisioned the NLB (always empty in render mode).
	GatewayAddress pulumi.StringOutput `pulumi:"gatewayAddress"`
	// Targets report, per Service, the listener, the target group protocol and what the hop
	// from the NLB to the pods guarantees.
	Targets pulumi.MapArrayOutput `pulumi:"targets"`
}

// New registers the component and its children, in the plan's order: the controller before
// every object, so that on destroy the objects go first, while the controller still runs to
// delete the NLB and target groups and lift its finalizers.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*EksNlb, error) {
	if args == nil || args.EKS == nil || args.EKS.GatewayClass.Resource == nil || args.Deps == nil {
		return nil, fmt.Errorf("eksnlb %q: args must come from plan.Build with eks.enabled", name)
	}
	ep, deps := args.EKS, args.Deps
	c := &EksNlb{}
	if err := ctx.RegisterComponentResource(Token, name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	wrap := func(err error) error { return fmt.Errorf("eksnlb %q: %w", name, err) }

	// IAM: the role the controller assumes, its policy, and the binding to the service account.
	roleArn := pulumi.String(ep.IAM.RoleARN).ToStringOutput()
	policyArn := pulumi.String(ep.IAM.PolicyARN).ToStringOutput()
	if ep.IAM.Create {
		var identity []pulumi.Resource
		var err error
		if roleArn, policyArn, identity, err = grant(ctx, name, ep, parent); err != nil {
			return nil, wrap(err)
		}
		deps.Add(core.StepLBCIdentity, identity...)
	}

	if ep.CRDs != nil {
		after, err := deps.Of(stepDeps(core.StepLBCCRDs, deps))
		if err != nil {
			return nil, wrap(err)
		}
		crds, err := register.CRDs(ctx, name+"-lbc-crds", ep.CRDs, parent, pulumi.DependsOn(after))
		if err != nil {
			return nil, wrap(err)
		}
		deps.Add(core.StepLBCCRDs, crds)
	}

	if ep.Release != nil {
		certs, err := register.NewCertificates(ctx, ep.Certificates, parent)
		if err != nil {
			return nil, wrap(err)
		}
		after, err := deps.Of(ep.ReleaseDependsOn)
		if err != nil {
			return nil, wrap(err)
		}
		resolve := certs.Resolver(map[core.Ref]pulumi.Input{core.RoleARNRef: roleArn})
		chart, err := register.Chart(ctx, name+"-"+ep.Release.Name, *ep.Release, resolve, parent, pulumi.DependsOn(after))
		if err != nil {
			return nil, wrap(err)
		}
		deps.Add(core.StepLBC, chart)
	}

	if _, err := register.Object(ctx, ep.GatewayClass, deps, nil, parent); err != nil {
		return nil, wrap(err)
	}
	address := pulumi.String("").ToStringOutput()
	for _, o := range ep.Objects {
		res, err := register.Object(ctx, o, deps, nil, parent)
		if err != nil {
			return nil, wrap(err)
		}
		if o.Kind() == core.KindGateway {
			address = res.Status.ApplyT(gatewayAddress).(pulumi.StringOutput)
		}
	}
	var targets pulumi.MapArray
	for _, t := range ep.Targets {
		var keys []string
		for _, o := range t.Objects {
			if _, err := register.Object(ctx, o, deps, nil, parent); err != nil {
				return nil, wrap(fmt.Errorf("target %q: %w", t.Name, err))
			}
			keys = append(keys, o.Key())
		}
		targets = append(targets, TargetStatus(t, keys))
	}

	c.RoleArn = roleArn
	c.PolicyArn = policyArn
	c.GatewayAddress = address
	c.Targets = targets.ToMapArrayOutput()
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"roleArn": c.RoleArn, "policyArn": c.PolicyArn, "gatewayAddress": c.GatewayAddress, "targets": c.Targets,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// stepDeps are the keys the LBC CRDs wait for: the Gateway API CRDs when the plan installs them.
func stepDeps(step string, deps *register.Deps) []string {
	if _, ok := deps.Get(core.StepGatewayAPICRDs); ok && step == core.StepLBCCRDs {
		return []string{core.StepGatewayAPICRDs}
	}
	return nil
}

// gatewayAddress reads status.addresses[0].value of a Gateway.
func gatewayAddress(status map[string]any) string {
	addrs, _ := status["addresses"].([]any)
	if len(addrs) == 0 {
		return ""
	}
	first, _ := addrs[0].(map[string]any)
	v, _ := first["value"].(string)
	return v
}

// grant creates the controller's IAM role (trusting Pod Identity or the cluster's OIDC
// provider), its policy unless an existing one is given, the attachment, and in mode
// podIdentity the association with the controller's service account.
func grant(ctx *pulumi.Context, name string, ep *eks.Plan, parent pulumi.ResourceOption) (roleArn, policyArn pulumi.StringOutput, identity []pulumi.Resource, err error) {
	role, err := iam.NewRole(ctx, name+"-controller", &iam.RoleArgs{
		Name:             pulumi.String(ep.IAM.RoleName),
		AssumeRolePolicy: pulumi.String(ep.IAM.TrustPolicy),
		Description:      pulumi.String("AWS Load Balancer Controller of EKS cluster " + ep.ClusterName + " (upstream-tls)"),
	}, parent)
	if err != nil {
		return roleArn, policyArn, nil, err
	}
	policyArn = pulumi.String(ep.IAM.PolicyARN).ToStringOutput()
	if ep.IAM.PolicyARN == "" {
		policy, err := iam.NewPolicy(ctx, name+"-controller", &iam.PolicyArgs{
			Name:        pulumi.String(ep.IAM.PolicyName),
			Policy:      pulumi.String(ep.IAM.PolicyDocument),
			Description: pulumi.String("Permissions the AWS Load Balancer Controller documents (upstream-tls)"),
		}, parent)
		if err != nil {
			return roleArn, policyArn, nil, err
		}
		policyArn = policy.Arn
	}
	attachment, err := iam.NewRolePolicyAttachment(ctx, name+"-controller", &iam.RolePolicyAttachmentArgs{
		Role:      role.Name,
		PolicyArn: policyArn,
	}, parent)
	if err != nil {
		return roleArn, policyArn, nil, err
	}
	identity = []pulumi.Resource{attachment}
	if ep.IAM.Mode == spec.IdentityPodIdentity {
		assoc, err := awseks.NewPodIdentityAssociation(ctx, name+"-controller", &awseks.PodIdentityAssociationArgs{
			ClusterName:    pulumi.String(ep.ClusterName),
			Namespace:      pulumi.String(ep.IAM.Namespace),
			ServiceAccount: pulumi.String(ep.IAM.ServiceAccount),
			RoleArn:        role.Arn,
		}, parent)
		if err != nil {
			return roleArn, policyArn, nil, err
		}
		identity = append(identity, assoc)
	}
	return role.Arn, policyArn, identity, nil
}

// TargetStatus is the output reported for one target.
func TargetStatus(t eks.Target, objects []string) pulumi.Map {
	return pulumi.Map{
		"name":                pulumi.String(t.Name),
		"service":             pulumi.String(t.Namespace + "/" + t.Service),
		"listener":            pulumi.String(t.Listener),
		"listenerProtocol":    pulumi.String(t.ListenerProtocol),
		"targetGroupProtocol": pulumi.String(t.TargetGroupProtocol),
		"verified":            pulumi.Bool(false),
		"statement":           pulumi.String(t.Statement),
		"objects":             pulumi.ToStringArray(objects),
	}
}
